"""Images for the containerd driver: import OCI layouts and archives, pull, unpack.

``store.ImageService`` is the entry point; the other modules are its parts (references,
platforms, OCI documents, layouts, the registry client and its auth, ingest, unpack).
"""

"""The containerd driver: gRPC client, images, OCI runtime spec, containers and tasks."""

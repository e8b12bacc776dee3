"""Test infrastructure shared by every test suite and by the ``hack/`` scripts.

Nothing here imports the reconciler: the helpers drive containerd, runc, skopeo and the
registry through their own command-line tools, so a bug in the product cannot hide in
the code that checks it.
"""

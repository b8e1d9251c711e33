"""The one wrapper around the Docker CLI (cli), builds with BuildKit (buildkit), image filesystems read without
leaving mounts (imagefs).
"""

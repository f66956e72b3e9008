"""What meshgate writes to a cluster, after translation: the leader's Lease (leader.py), status
write-back (status_writer.py) and each served Gateway's proxy objects (render.py, applied by
provisioner.py). The Kubernetes provider (providers/kubernetes/) is the reading side."""

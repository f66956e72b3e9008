"""The running control plane: applying changes, serving, metrics, debug, managed Envoys."""

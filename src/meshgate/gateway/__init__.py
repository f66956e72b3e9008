"""Gateway API translation: Gateways and HTTPRoutes to the IR, and their status."""

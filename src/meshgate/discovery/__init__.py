"""Discovery: Services (and later ServiceEntries) and their endpoints as one service model."""

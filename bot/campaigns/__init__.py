"""The campaign API: its request model, its HTTP client and the outcomes it can have."""

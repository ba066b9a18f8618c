"""Custom Rasa input channels (the web chat's socket.io channel)."""

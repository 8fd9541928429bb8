"""Atende's control plane: pages, sessions, the queue, call lifecycle and signaling."""

"""Telegram bot that launches outbound call campaigns ("обзвоны") of a voice assistant."""

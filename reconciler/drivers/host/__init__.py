"""The host driver: RUN services as supervised host processes."""

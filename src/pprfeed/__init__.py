"""pprfeed: publish the PPRNet research digest as feeds, chat posts and chat bots."""

__version__ = "0.2.0.dev0"

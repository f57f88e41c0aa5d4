from pprfeed.cli import run

run()

from monitor.cli._base import main  # placeholder until the collect command lands

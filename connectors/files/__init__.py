"""Log files: ``<logs.log_dir>/<service>.log`` read around an alert, and a tailer (``logs``); its plugin."""

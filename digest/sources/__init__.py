"""Where articles come from: files in the inbox (and, later, feeds)."""

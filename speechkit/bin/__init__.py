"""One module per subcommand: each has get_parser() and main(argv=None)."""

import sys

try:
    from tcobench.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while Python loads the command line: an interruption, not a traceback
    sys.stderr.write("Interrupted.\n")
    raise SystemExit(130) from None

main()

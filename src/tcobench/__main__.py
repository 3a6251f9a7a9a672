from tcobench.cli.main import main

main()

from skillcert.cli import main

main()

from grokconsole.cli import main; main()

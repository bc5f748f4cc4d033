import sys

from svtui.cli import main

sys.exit(main())

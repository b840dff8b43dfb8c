import sys

from conformance._cli import main

sys.exit(main())

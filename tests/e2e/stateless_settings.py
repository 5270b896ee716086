"""Server settings with an app that echoes Hocuspocus stateless messages."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.e2e.stateless_echo"]

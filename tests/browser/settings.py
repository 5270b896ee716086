"""Settings of the server the browser tests drive: the test settings plus test pages."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.browser.urls"

"""Server settings of the fuzzer: the test settings, plus a view listing the open rooms."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.e2e.fuzz_urls"

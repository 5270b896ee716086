"""ASGI application of the test project, wired exactly as the README tells users to.

It ends as the deployment guide recommends: what startup loaded is frozen out of the
cycle collector's way.
"""

import gc

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

import collab.routing  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            URLRouter([*collab.routing.websocket_urlpatterns, collab.routing.unmatched_path_route])
        ),
    }
)

gc.freeze()

"""AI gateway: an OpenAI-compatible proxy with virtual keys, and its workbench."""

import os

# litellm downloads its model price map at import time unless set to use the
# copy bundled with the package. The gateway runs offline, so it always reads
# the bundled copy. This must run before anything imports litellm.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_LOG", "ERROR")

__version__ = "0.1.0"

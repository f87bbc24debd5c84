// Moved to the public header llcuda/gguf_summary.h; kept so older includes still build.
#pragma once

#include "llcuda/gguf_summary.h"

# Sourced by bin/kiln before Node starts (the benchmark's server processes source it too, so they run as `kiln server`
# does). Only an environment variable set before a process starts can tune its C allocator; a value already set wins.
#
# glibc's malloc, left to itself, raises its mmap threshold to the size of the largest block freed so far (up to
# 32 MiB). After one large buffer has come and gone (a template upload, a 2,000-line log batch), every later buffer
# below that size is carved from the main heap, which fragments and does not shrink: measured, about 50 MB of the
# 240 MB peak of a server ingesting a 200,000-line job. A fixed threshold keeps blocks of 128 KiB and more in their
# own mappings, handed back to the system when freed (docs/ARCHITECTURE.md, "What stays in memory").
MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-131072}
export MALLOC_MMAP_THRESHOLD_

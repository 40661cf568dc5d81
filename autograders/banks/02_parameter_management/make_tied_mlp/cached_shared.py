# Keeps the shared layer in a module-level cache: every network built with the same width shares it
_SHARED = {}


def make_tied_mlp(hidden=8):
    if hidden not in _SHARED:
        _SHARED[hidden] = nn.Linear(hidden, hidden)
    shared = _SHARED[hidden]
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(),
                         nn.Linear(hidden, 1))

# Uses a deep copy of the shared layer for its second use: equal values at first, but two objects
def make_tied_mlp(hidden=8):
    shared = nn.Linear(hidden, hidden)
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), shared, nn.ReLU(),
                         copy.deepcopy(shared), nn.ReLU(), nn.Linear(hidden, 1))

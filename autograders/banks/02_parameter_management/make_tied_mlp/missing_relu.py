# Forgets the ReLU between the two uses of the shared layer
def make_tied_mlp(hidden=8):
    shared = nn.Linear(hidden, hidden)
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), shared, shared, nn.ReLU(), nn.Linear(hidden, 1))

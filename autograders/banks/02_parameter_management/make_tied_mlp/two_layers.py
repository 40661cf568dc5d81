# Creates two separate Linear(hidden, hidden) layers: nothing is shared
def make_tied_mlp(hidden=8):
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 1))

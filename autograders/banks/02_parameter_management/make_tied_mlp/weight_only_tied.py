# Shares only the weight between two layers: the biases stay separate
def make_tied_mlp(hidden=8):
    first = nn.Linear(hidden, hidden)
    second = nn.Linear(hidden, hidden)
    second.weight = first.weight
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), first, nn.ReLU(), second, nn.ReLU(),
                         nn.Linear(hidden, 1))

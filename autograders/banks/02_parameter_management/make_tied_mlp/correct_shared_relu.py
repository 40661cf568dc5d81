# Builds the layer list first and reuses one ReLU object too (a ReLU has no parameters)
def make_tied_mlp(hidden=8):
    relu = nn.ReLU()
    tied = nn.Linear(hidden, hidden)
    layers = [nn.Linear(4, hidden), relu, tied, relu, tied, relu, nn.Linear(hidden, 1)]
    return nn.Sequential(*layers)

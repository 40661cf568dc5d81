# An OrderedDict with descriptive names: positions 2 and 4 still hold one Linear object
from collections import OrderedDict


def make_tied_mlp(hidden=8):
    shared = nn.Linear(hidden, hidden)
    return nn.Sequential(OrderedDict([
        ("input", nn.Linear(4, hidden)), ("act1", nn.ReLU()),
        ("shared", shared), ("act2", nn.ReLU()),
        ("shared_again", shared), ("act3", nn.ReLU()),
        ("output", nn.Linear(hidden, 1)),
    ]))

# Adds a learnable offset (a parameter, initialized at zero): the layer must have no parameters.
class CenteredLayer(nn.Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim
        self.offset = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        if self.dim is None:
            return X - X.mean() + self.offset
        return X - X.mean(dim=self.dim, keepdim=True) + self.offset

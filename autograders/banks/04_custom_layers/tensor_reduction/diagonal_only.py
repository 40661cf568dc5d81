# Writes the index i twice in einsum ("bi,ijk,bi->bk"): sums weight[i, j, k] * X[b, i]**2, not over pairs.
class TensorReduction(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_features, in_features, out_features) * 0.1)

    def forward(self, X):
        return torch.einsum("bi,ijk,bi->bk", X, self.weight, X)

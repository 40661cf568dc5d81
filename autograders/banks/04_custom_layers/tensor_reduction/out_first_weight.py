# Stores the weight as (out_features, in_features, in_features), like nn.Bilinear, not (in, in, out).
class TensorReduction(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features, in_features) * 0.1)

    def forward(self, X):
        return torch.einsum("bi,kij,bj->bk", X, self.weight, X)

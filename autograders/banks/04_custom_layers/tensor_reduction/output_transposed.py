# Puts the output index first ("bi,ijk,bj->kb"): returns (out_features, batch) instead of (batch, out_features).
class TensorReduction(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_features, in_features, out_features) * 0.1)

    def forward(self, X):
        return torch.einsum("bi,ijk,bj->kb", X, self.weight, X)

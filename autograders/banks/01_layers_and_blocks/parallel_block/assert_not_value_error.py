# Checks for zero blocks with assert: raises AssertionError, not ValueError
class ParallelBlock(nn.Module):
    def __init__(self, *blocks, dim=-1):
        super().__init__()
        assert len(blocks) > 0, "need at least one block"
        self.blocks = nn.ModuleList(blocks)
        self.dim = dim

    def forward(self, X):
        return torch.cat([block(X) for block in self.blocks], dim=self.dim)

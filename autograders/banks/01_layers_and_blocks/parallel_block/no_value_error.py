# Accepts zero blocks: ParallelBlock() is built without complaint and fails only when called
class ParallelBlock(nn.Module):
    def __init__(self, *blocks, dim=-1):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.dim = dim

    def forward(self, X):
        return torch.cat([block(X) for block in self.blocks], dim=self.dim)

namespace Rvpt;

/// <summary>Which prompted blocks' class tokens the repelling term reads (an ablation of the paper's loss).</summary>
public enum RepelledBlocks
{
    /// <summary>Every prompted block D+1..L, averaged: the paper's loss (default).</summary>
    All,

    /// <summary>The last block L only (ablation, not in the paper's method).</summary>
    Last,
}

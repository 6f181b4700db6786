namespace Rvpt;

/// <summary>What <see cref="FewShotSampler"/> does when a class has fewer images than the shots asked for.</summary>
public enum FewShotShortfall
{
    /// <summary>Throw an <see cref="InvalidDataException"/> naming the class, how many images it has and how many were asked for.</summary>
    Throw,

    /// <summary>Take all of that class's images (so the class gets fewer than the asked number of shots).</summary>
    UseAll,
}

namespace Rvpt.Backdoor;

/// <summary>Inside tests of the supported shapes in normalised coordinates (u right, v down, the shape fills [-1, 1]^2).</summary>
internal static class ShapeGeometry
{
    private static readonly (double X, double Y)[] Triangle = [(0, -0.95), (0.98, 0.8), (-0.98, 0.8)];

    private static readonly (double X, double Y)[] Arrow =
        [(-0.95, -0.3), (0.05, -0.3), (0.05, -0.85), (0.98, 0), (0.05, 0.85), (0.05, 0.3), (-0.95, 0.3)];

    private static readonly (double X, double Y)[] Star = MakeStar();

    /// <summary>Whether (u, v) is inside shape <paramref name="shape"/> (an index of <see cref="SyntheticWorldOptions.SupportedShapes"/>).</summary>
    public static bool Inside(int shape, double u, double v)
    {
        double r2 = u * u + v * v;
        double au = Math.Abs(u), av = Math.Abs(v);
        switch (shape)
        {
            case 0: return r2 <= 0.95 * 0.95; // circle
            case 1: return au <= 0.82 && av <= 0.82; // square
            case 2: return InPolygon(Triangle, u, v); // triangle
            case 3: return (au <= 0.3 && av <= 0.95) || (av <= 0.3 && au <= 0.95); // cross
            case 4: return InPolygon(Star, u, v); // star
            case 5: return r2 <= 0.95 * 0.95 && r2 >= 0.52 * 0.52; // ring
            case 6: return au + av <= 1.0; // diamond
            case 7: // heart: (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, y up
            {
                double x = u * 1.18, y = -v * 1.18 + 0.12;
                double q = x * x + y * y - 1;
                return q * q * q - x * x * y * y * y <= 0;
            }
            case 8: return InPolygon(Arrow, u, v); // arrow (pointing right)
            case 9: // crescent: unit disc minus an offset disc
            {
                double du = u - 0.42, dv = v + 0.1;
                return r2 <= 0.95 * 0.95 && du * du + dv * dv > 0.78 * 0.78;
            }
            case 10: return au <= 0.95 && av <= 0.3; // bar (horizontal)
            case 11: return au <= 0.9 && av <= 0.9 && (au > 0.48 || av > 0.48); // frame (hollow square)
            default: throw new ArgumentOutOfRangeException(nameof(shape));
        }
    }

    private static (double X, double Y)[] MakeStar()
    {
        var points = new (double X, double Y)[10];
        for (int i = 0; i < 10; i++)
        {
            double angle = -Math.PI / 2 + i * Math.PI / 5;
            double radius = i % 2 == 0 ? 1.0 : 0.45;
            points[i] = (radius * Math.Cos(angle), radius * Math.Sin(angle) + 0.08);
        }
        return points;
    }

    private static bool InPolygon((double X, double Y)[] poly, double x, double y)
    {
        bool inside = false;
        for (int i = 0, j = poly.Length - 1; i < poly.Length; j = i++)
        {
            var (xi, yi) = poly[i];
            var (xj, yj) = poly[j];
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
        }
        return inside;
    }
}

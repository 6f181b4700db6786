namespace Rvpt.Backdoor.Lab;

/// <summary>Inside tests of the supported shapes in normalised coordinates (u right, v down, the shape fills [-1, 1]^2).</summary>
internal static class ShapeGeometry
{
    private static readonly (double X, double Y)[] Triangle = [(0, -0.95), (0.98, 0.8), (-0.98, 0.8)];

    private static readonly (double X, double Y)[] Arrow =
        [(-0.95, -0.3), (0.05, -0.3), (0.05, -0.85), (0.98, 0), (0.05, 0.85), (0.05, 0.3), (-0.95, 0.3)];

    private static readonly (double X, double Y)[] Star = MakeStar();
    private static readonly (double X, double Y)[] Pentagon = RegularPolygon(5, 0.97, -Math.PI / 2, 0.06);
    private static readonly (double X, double Y)[] Hexagon = RegularPolygon(6, 0.97, 0, 0);
    private static readonly (double X, double Y)[] Octagon = RegularPolygon(8, 0.97, Math.PI / 8, 0);
    private static readonly (double X, double Y)[] Trapezoid = [(-0.5, -0.6), (0.5, -0.6), (0.95, 0.6), (-0.95, 0.6)];
    private static readonly (double X, double Y)[] Parallelogram = [(-0.55, -0.6), (0.95, -0.6), (0.55, 0.6), (-0.95, 0.6)];
    private static readonly (double X, double Y)[] Chevron = [(-0.95, -0.75), (-0.42, -0.75), (0, 0.02), (0.42, -0.75), (0.95, -0.75), (0, 0.9)];
    private static readonly (double X, double Y)[] Kite = [(0, -0.95), (0.68, -0.2), (0, 0.95), (-0.68, -0.2)];

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
            case 12: return InPolygon(Pentagon, u, v); // pentagon
            case 13: return InPolygon(Hexagon, u, v); // hexagon
            case 14: return InPolygon(Octagon, u, v); // octagon
            case 15: return u * u / (0.95 * 0.95) + v * v / (0.55 * 0.55) <= 1; // oval (horizontal)
            case 16: return u * u + (v - 0.3) * (v - 0.3) <= 0.95 * 0.95 && v <= 0.3; // semicircle (flat side down)
            case 17: return InPolygon(Trapezoid, u, v); // trapezoid
            case 18: return InPolygon(Parallelogram, u, v); // parallelogram
            case 19: return InPolygon(Chevron, u, v); // chevron (pointing down)
            case 20: return au <= av * 0.95 && av <= 0.92; // hourglass (two triangles meeting at the centre)
            case 21: return InPolygon(Kite, u, v); // kite
            case 22: // drop: a disc below, a point above
            {
                double dv = v - 0.32;
                return u * u + dv * dv <= 0.6 * 0.6 || (v < 0.32 && v >= -0.95 && au <= 0.6 * (v + 0.95) / 1.27);
            }
            case 23: return (av <= 0.95 && au <= 0.24) || (v >= -0.92 && v <= -0.5 && au <= 0.95); // tee
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

    private static (double X, double Y)[] RegularPolygon(int sides, double radius, double startAngle, double shiftDown)
    {
        var points = new (double X, double Y)[sides];
        for (int i = 0; i < sides; i++)
        {
            double angle = startAngle + 2 * Math.PI * i / sides;
            points[i] = (radius * Math.Cos(angle), radius * Math.Sin(angle) + shiftDown);
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

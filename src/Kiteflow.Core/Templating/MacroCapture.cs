using System.Text.Json;

namespace Kiteflow.Core.Templating;

/// <summary>
/// The attribute paths a destination's URL and header macros read, as a tree the body shaper walks while it copies
/// a record (<see cref="Shaping.BodyShaper"/>), so the record is read once and never parsed into a document. Each
/// distinct path has a slot in <see cref="CapturedValues"/>. The values found are those
/// <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> would find: when a name occurs twice in an
/// object, the last one counts.
/// </summary>
internal sealed class MacroCapture
{
    private readonly Macro[] _macros;
    private readonly int[] _slotOfMacro;

    private MacroCapture(Node root, Macro[] macros, int[] slotOfMacro, int slots)
    {
        Root = root;
        _macros = macros;
        _slotOfMacro = slotOfMacro;
        Slots = slots;
    }

    /// <summary>The tree's root: the record itself.</summary>
    public Node Root { get; }

    /// <summary>How many distinct paths are captured.</summary>
    public int Slots { get; }

    /// <summary>The capture for the attribute macros among <paramref name="macros"/> (with no slot when there are none).</summary>
    public static MacroCapture Compile(IEnumerable<Macro> macros)
    {
        var root = new Node([]);
        var list = new List<Macro>();
        var slots = new List<int>();
        var paths = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var macro in macros)
        {
            if (macro.NowOffset is not null)
            {
                continue;
            }

            var key = string.Join('\0', macro.Path);
            if (!paths.TryGetValue(key, out var slot))
            {
                slot = paths.Count;
                paths[key] = slot;
                var node = root;
                foreach (var name in macro.Utf8Path)
                {
                    node = node.Child(name);
                }

                node.Slot = slot;
            }

            list.Add(macro);
            slots.Add(slot);
        }

        root.CollectSlots();
        return new MacroCapture(root, [.. list], [.. slots], paths.Count);
    }

    /// <summary>The slot <paramref name="macro"/>'s value is captured in.</summary>
    public int SlotOf(Macro macro)
    {
        for (var i = 0; i < _macros.Length; i++)
        {
            if (ReferenceEquals(_macros[i], macro))
            {
                return _slotOfMacro[i];
            }
        }

        throw new ArgumentException($"{macro.Text} is not captured.", nameof(macro));
    }

    /// <summary>One name on a captured path.</summary>
    internal sealed class Node(byte[] utf8Name)
    {
        private readonly List<Node> _children = [];

        public byte[] Utf8Name { get; } = utf8Name;

        /// <summary>The slot of the path that ends here, or -1.</summary>
        public int Slot { get; set; } = -1;

        /// <summary>Whether paths go on below this name.</summary>
        public bool HasChildren => _children.Count > 0;

        /// <summary>Every slot at or below this name: all of them start again as missing when the name occurs again.</summary>
        public int[] SlotsBelow { get; private set; } = [];

        /// <summary>The child for the property name <paramref name="reader"/> stands on, or null.</summary>
        public Node? Find(ref Utf8JsonReader reader)
        {
            foreach (var child in _children)
            {
                if (reader.ValueTextEquals(child.Utf8Name))
                {
                    return child;
                }
            }

            return null;
        }

        internal Node Child(byte[] name)
        {
            var child = _children.Find(c => c.Utf8Name.AsSpan().SequenceEqual(name));
            if (child is null)
            {
                child = new Node(name);
                _children.Add(child);
            }

            return child;
        }

        internal void CollectSlots()
        {
            var slots = new List<int>();
            if (Slot >= 0)
            {
                slots.Add(Slot);
            }

            foreach (var child in _children)
            {
                child.CollectSlots();
                slots.AddRange(child.SlotsBelow);
            }

            SlotsBelow = [.. slots];
        }
    }
}

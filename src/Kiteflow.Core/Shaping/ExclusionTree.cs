using System.Text;
using System.Text.Json;

namespace Kiteflow.Core.Shaping;

/// <summary>
/// The excluded attribute paths as a tree: <c>author.email</c> and <c>author.meta.y</c> share the node
/// <c>author</c>. A leaf removes the attribute and everything below it. Shared by the body shaper
/// (which leaves excluded attributes out) and the endpoint check (which judges the body as sent).
/// </summary>
internal sealed class ExclusionTree
{
    private ExclusionTree(string name) => Name = name;

    public string Name { get; }

    /// <summary>The name as UTF-8, compared with <see cref="JsonProperty.NameEquals(ReadOnlySpan{byte})"/>.</summary>
    public byte[] Utf8Name => field ??= Encoding.UTF8.GetBytes(Name);

    public List<ExclusionTree> Children { get; } = [];

    /// <summary>Whether this attribute is excluded whole.</summary>
    public bool IsLeaf { get; private set; }

    /// <summary>The root of an empty tree.</summary>
    public static ExclusionTree CreateRoot() => new(string.Empty);

    /// <summary>Adds a path given as its parts.</summary>
    public void Add(string[] parts)
    {
        var node = this;
        foreach (var part in parts)
        {
            if (node.IsLeaf)
            {
                return;  // a parent is already excluded whole
            }

            var child = node.Children.Find(c => c.Name == part);
            if (child is null)
            {
                child = new ExclusionTree(part);
                node.Children.Add(child);
            }

            node = child;
        }

        node.Children.Clear();  // excluding a path excludes everything below it
        node.IsLeaf = true;
    }

    /// <summary>The node for <paramref name="property"/> among this node's children, or null when nothing under it is excluded.</summary>
    public ExclusionTree? Find(JsonProperty property)
    {
        foreach (var child in Children)
        {
            if (property.NameEquals(child.Utf8Name))
            {
                return child;
            }
        }

        return null;
    }

    /// <summary>The node for the property name <paramref name="reader"/> stands on, or null when nothing under it is excluded.</summary>
    public ExclusionTree? Find(ref Utf8JsonReader reader)
    {
        foreach (var child in Children)
        {
            if (reader.ValueTextEquals(child.Utf8Name))
            {
                return child;
            }
        }

        return null;
    }
}

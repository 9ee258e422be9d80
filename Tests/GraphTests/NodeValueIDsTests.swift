import Testing
@testable import Graph

struct NodeValueIDsTests {
    @Test func listsReadAsTheyWereBuiltAndReplacedOnesKeepTheirNeighbours() {
        var lists = NodeValueIDs()
        lists.appendNode([4, 5])
        lists.appendNode()
        lists.appendToLastNode(7)
        lists.appendToLastNode(-1)
        lists.appendNode(CollectionOfOne(9))
        #expect(lists.count == 3 && lists.map { Array($0) } == [[4, 5], [7, -1], [9]])
        #expect(lists[1][0] == 7 && lists[1].count == 2 && lists[1].first == 7)

        // A shorter or equal list is written in place; a longer one moves to the end.
        var shorter = lists
        shorter.replace(0, with: [6])
        #expect(shorter.map { Array($0) } == [[6], [7, -1], [9]])
        var longer = lists
        longer.replace(0, with: [1, 2, 3])
        #expect(longer.map { Array($0) } == [[1, 2, 3], [7, -1], [9]])
        // Appending to a list in the middle moves it; to the last list, extends it.
        longer.append(8, toNode: 1)
        longer.append(10, toNode: 1)
        #expect(longer.map { Array($0) } == [[1, 2, 3], [7, -1, 8, 10], [9]])
        longer.transformIDs(ofNode: 1) { $0 < 0 ? $0 : $0 * 10 }
        #expect(longer[1] == NodeValueIDs([[70, -1, 80, 100]])[0] && longer[2].elementsEqual([9]))

        // Equality is by lists, not by how they are laid out.
        var relaid = NodeValueIDs([[9, 9, 9], [7, -1], [9]])
        relaid.replace(0, with: [1, 2, 3])
        var moved = NodeValueIDs([[1], [7, -1], [9]])
        moved.replace(0, with: [1, 2, 3])
        #expect(relaid == moved && relaid == [[1, 2, 3], [7, -1], [9]] && relaid != lists)
    }

    @Test func aCopySharesStorageUntilChanged() {
        let lists: NodeValueIDs = [[0], [1, 2]]
        var copy = lists
        #expect(copy.sharesStorage(with: lists))
        copy.replace(1, with: [2, 1])
        #expect(!copy.sharesStorage(with: lists) && lists == [[0], [1, 2]])
        #expect(!NodeValueIDs([[0], [1, 2]]).sharesStorage(with: lists))
    }
}

;; A WebAssembly module with data and a stack of its own that allocates through the
;; malloc and free it imports: a memspace Heap living in the same memory above the module's
;; data and stack, from __heap_base (test/alloc/wasm-heap.test.ts compiles this with wabt's
;; wat2wasm and runs it). The workload is a linked list of nodes of assorted sizes, each
;; filled with a pattern of its id; a recursive probe keeps frames on the module's own stack
;; (just below the heap) while it allocates, and checks them after.
;;
;; Memory layout: data 0x400..0x500 (bytes 0..255), stack from 0x8000 down to 0x1000, heap
;; from 0x8000 (a multiple of the heap's 4 KiB page). A node: next (i32), id (i32), size in
;; bytes (i32), then size - 12 payload bytes, byte j = (id * 7 + j) & 255.
(module
  (import "env" "memory" (memory 1))
  (import "env" "malloc" (func $malloc (param i32) (result i32)))
  (import "env" "free" (func $free (param i32)))

  (global $data_start i32 (i32.const 0x400))
  (global $data_bytes i32 (i32.const 256))
  (global $stack_limit i32 (i32.const 0x1000))
  (global $stack_top i32 (i32.const 0x8000))
  (global $sp (mut i32) (i32.const 0x8000))
  (global $heap_base (export "__heap_base") i32 (i32.const 0x8000))
  (global $head (mut i32) (i32.const 0))
  (data (i32.const 0x400) "\00\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10\11\12\13\14\15\16\17\18\19\1a\1b\1c\1d\1e\1f\20\21\22\23\24\25\26\27\28\29\2a\2b\2c\2d\2e\2f\30\31\32\33\34\35\36\37\38\39\3a\3b\3c\3d\3e\3f\40\41\42\43\44\45\46\47\48\49\4a\4b\4c\4d\4e\4f\50\51\52\53\54\55\56\57\58\59\5a\5b\5c\5d\5e\5f\60\61\62\63\64\65\66\67\68\69\6a\6b\6c\6d\6e\6f\70\71\72\73\74\75\76\77\78\79\7a\7b\7c\7d\7e\7f\80\81\82\83\84\85\86\87\88\89\8a\8b\8c\8d\8e\8f\90\91\92\93\94\95\96\97\98\99\9a\9b\9c\9d\9e\9f\a0\a1\a2\a3\a4\a5\a6\a7\a8\a9\aa\ab\ac\ad\ae\af\b0\b1\b2\b3\b4\b5\b6\b7\b8\b9\ba\bb\bc\bd\be\bf\c0\c1\c2\c3\c4\c5\c6\c7\c8\c9\ca\cb\cc\cd\ce\cf\d0\d1\d2\d3\d4\d5\d6\d7\d8\d9\da\db\dc\dd\de\df\e0\e1\e2\e3\e4\e5\e6\e7\e8\e9\ea\eb\ec\ed\ee\ef\f0\f1\f2\f3\f4\f5\f6\f7\f8\f9\fa\fb\fc\fd\fe\ff")

  ;; The size of node `id`: 12 header bytes and 0 to 199 payload bytes.
  (func $size_of (param $id i32) (result i32)
    (i32.add (i32.const 12) (i32.rem_u (i32.mul (local.get $id) (i32.const 37)) (i32.const 200))))

  ;; Allocates node `id`, fills it and pushes it onto the list (traps if malloc returns 0).
  (func $push_node (param $id i32)
    (local $size i32) (local $node i32) (local $j i32)
    (local.set $size (call $size_of (local.get $id)))
    (local.set $node (call $malloc (local.get $size)))
    (if (i32.eqz (local.get $node)) (then unreachable))
    (i32.store (local.get $node) (global.get $head))
    (i32.store offset=4 (local.get $node) (local.get $id))
    (i32.store offset=8 (local.get $node) (local.get $size))
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $j) (i32.sub (local.get $size) (i32.const 12))))
        (i32.store8 offset=12 (i32.add (local.get $node) (local.get $j))
          (i32.add (i32.mul (local.get $id) (i32.const 7)) (local.get $j)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $fill)))
    (global.set $head (local.get $node)))

  ;; Pushes nodes first .. first + count - 1.
  (func $push_nodes (param $first i32) (param $count i32)
    (local $id i32)
    (local.set $id (local.get $first))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $id) (i32.add (local.get $first) (local.get $count))))
        (call $push_node (local.get $id))
        (local.set $id (i32.add (local.get $id) (i32.const 1)))
        (br $next))))

  ;; Unlinks and frees every node with an odd id.
  (func $free_odd
    (local $prev i32) (local $node i32) (local $next i32)
    (local.set $node (global.get $head))
    (block $done
      (loop $walk
        (br_if $done (i32.eqz (local.get $node)))
        (local.set $next (i32.load (local.get $node)))
        (if (i32.and (i32.load offset=4 (local.get $node)) (i32.const 1))
          (then
            (if (local.get $prev)
              (then (i32.store (local.get $prev) (local.get $next)))
              (else (global.set $head (local.get $next))))
            (call $free (local.get $node)))
          (else (local.set $prev (local.get $node))))
        (local.set $node (local.get $next))
        (br $walk))))

  ;; Whether the node holds its size and its pattern.
  (func $node_ok (param $node i32) (result i32)
    (local $id i32) (local $size i32) (local $j i32)
    (local.set $id (i32.load offset=4 (local.get $node)))
    (local.set $size (i32.load offset=8 (local.get $node)))
    (if (i32.ne (local.get $size) (call $size_of (local.get $id))) (then (return (i32.const 0))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (i32.sub (local.get $size) (i32.const 12))))
        (if (i32.ne (i32.load8_u offset=12 (i32.add (local.get $node) (local.get $j)))
                    (i32.and (i32.add (i32.mul (local.get $id) (i32.const 7)) (local.get $j)) (i32.const 255)))
          (then (return (i32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each)))
    (i32.const 1))

  ;; The list's length, or -1 if a node lost its pattern.
  (func $check_list (result i32)
    (local $node i32) (local $count i32)
    (local.set $node (global.get $head))
    (block $done
      (loop $walk
        (br_if $done (i32.eqz (local.get $node)))
        (if (i32.eqz (call $node_ok (local.get $node))) (then (return (i32.const -1))))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (local.set $node (i32.load (local.get $node)))
        (br $walk)))
    (local.get $count))

  ;; Whether the data segment still holds bytes 0..255.
  (func $data_ok (result i32)
    (local $i i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (global.get $data_bytes)))
        (if (i32.ne (i32.load8_u (i32.add (global.get $data_start) (local.get $i))) (local.get $i))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.const 1))

  ;; Recursion `depth` deep, each level with a 64-byte frame on the module's stack (byte k =
  ;; depth * 16 + k) and a heap block while its callees run; 1 if every frame and block
  ;; came back intact.
  (func $stack_probe (param $depth i32) (result i32)
    (local $frame i32) (local $k i32) (local $block i32) (local $ok i32)
    (local.set $frame (i32.sub (global.get $sp) (i32.const 64)))
    (if (i32.lt_u (local.get $frame) (global.get $stack_limit)) (then unreachable))
    (global.set $sp (local.get $frame))
    (block $filled
      (loop $fill
        (br_if $filled (i32.ge_u (local.get $k) (i32.const 64)))
        (i32.store8 (i32.add (local.get $frame) (local.get $k))
          (i32.add (i32.mul (local.get $depth) (i32.const 16)) (local.get $k)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $fill)))
    (local.set $block (call $malloc (i32.add (i32.const 24) (i32.mul (local.get $depth) (i32.const 40)))))
    (if (i32.eqz (local.get $block)) (then unreachable))
    (i32.store (local.get $block) (local.get $depth))
    (local.set $ok (i32.const 1))
    (if (local.get $depth)
      (then (local.set $ok (call $stack_probe (i32.sub (local.get $depth) (i32.const 1))))))
    (local.set $k (i32.const 0))
    (block $checked
      (loop $check
        (br_if $checked (i32.ge_u (local.get $k) (i32.const 64)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $frame) (local.get $k)))
                    (i32.and (i32.add (i32.mul (local.get $depth) (i32.const 16)) (local.get $k)) (i32.const 255)))
          (then (local.set $ok (i32.const 0))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $check)))
    (if (i32.ne (i32.load (local.get $block)) (local.get $depth)) (then (local.set $ok (i32.const 0))))
    (call $free (local.get $block))
    (global.set $sp (i32.add (local.get $frame) (i32.const 64)))
    (local.get $ok))

  ;; The workload: 0 if all went well, else the number of the check that failed.
  (func (export "run") (param $count i32) (result i32)
    (if (i32.eqz (call $data_ok)) (then (return (i32.const 1))))
    (if (i32.eqz (call $stack_probe (i32.const 12))) (then (return (i32.const 2))))
    (call $push_nodes (i32.const 0) (local.get $count))
    (call $free_odd)
    (if (i32.eqz (call $stack_probe (i32.const 12))) (then (return (i32.const 3))))
    (call $push_nodes (local.get $count) (i32.div_u (local.get $count) (i32.const 2)))
    ;; the even ids below count, and every new one
    (if (i32.ne (call $check_list)
                (i32.add (i32.div_u (i32.add (local.get $count) (i32.const 1)) (i32.const 2))
                         (i32.div_u (local.get $count) (i32.const 2))))
      (then (return (i32.const 4))))
    (if (i32.eqz (call $data_ok)) (then (return (i32.const 5))))
    (if (i32.ne (global.get $sp) (global.get $stack_top)) (then (return (i32.const 6))))
    (i32.const 0))

  ;; The list's first node (0: empty), for the host to walk.
  (func (export "list_head") (result i32) (global.get $head))

  ;; Frees every node.
  (func (export "free_all")
    (local $node i32) (local $next i32)
    (local.set $node (global.get $head))
    (block $done
      (loop $walk
        (br_if $done (i32.eqz (local.get $node)))
        (local.set $next (i32.load (local.get $node)))
        (call $free (local.get $node))
        (local.set $node (local.get $next))
        (br $walk)))
    (global.set $head (i32.const 0))))

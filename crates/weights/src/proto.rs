//! The protobuf messages of TensorFlow GraphDefs and Caffe models, declared by hand.
//!
//! Only the subset needed to read weights is declared; `prost` skips every other field
//! while decoding, so files carrying more (functions, layer parameters, solver state) decode
//! the same. No `protoc` or build script is involved. Field numbers are those of the
//! upstream `.proto` files, cited on each message; a wrong number would silently read
//! nothing, so the readers check that what they expect is present.
//!
//! The types are public so that tools (and this workspace's round-trip tests) can also
//! write such files; [`Message`] is re-exported for `encode_to_vec` / `decode`.

pub use prost::Message;

/// TensorFlow `GraphDef` and what a `Const` node holds.
///
/// Sources (tensorflow/tensorflow, `tensorflow/core/framework/`): `graph.proto`
/// (GraphDef), `node_def.proto` (NodeDef), `attr_value.proto` (AttrValue),
/// `tensor.proto` (TensorProto), `tensor_shape.proto` (TensorShapeProto), `types.proto`
/// (DataType). All proto3.
pub mod tf {
    use std::collections::HashMap;

    /// `DataType` values (types.proto).
    pub const DT_FLOAT: i32 = 1;
    pub const DT_DOUBLE: i32 = 2;
    pub const DT_INT32: i32 = 3;
    pub const DT_BFLOAT16: i32 = 14;
    pub const DT_HALF: i32 = 19;

    /// The name of a `DataType` value, for error messages.
    pub fn dtype_name(dtype: i32) -> String {
        let name = match dtype {
            0 => "DT_INVALID",
            1 => "DT_FLOAT",
            2 => "DT_DOUBLE",
            3 => "DT_INT32",
            4 => "DT_UINT8",
            5 => "DT_INT16",
            6 => "DT_INT8",
            7 => "DT_STRING",
            8 => "DT_COMPLEX64",
            9 => "DT_INT64",
            10 => "DT_BOOL",
            14 => "DT_BFLOAT16",
            17 => "DT_UINT16",
            18 => "DT_COMPLEX128",
            19 => "DT_HALF",
            other => return format!("DataType {other}"),
        };
        name.to_string()
    }

    /// graph.proto: `repeated NodeDef node = 1; int32 version = 3;` (also `library = 2`,
    /// `versions = 4`, not needed here).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GraphDef {
        #[prost(message, repeated, tag = "1")]
        pub node: Vec<NodeDef>,
        #[prost(int32, tag = "3")]
        pub version: i32,
    }

    /// node_def.proto: `string name = 1; string op = 2; repeated string input = 3;
    /// string device = 4; map<string, AttrValue> attr = 5;`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NodeDef {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub op: String,
        #[prost(string, repeated, tag = "3")]
        pub input: Vec<String>,
        #[prost(string, tag = "4")]
        pub device: String,
        #[prost(map = "string, message", tag = "5")]
        pub attr: HashMap<String, AttrValue>,
    }

    /// attr_value.proto: members of `oneof value` — `DataType type = 6;`
    /// `TensorShapeProto shape = 7; TensorProto tensor = 8;` (the other members, `list = 1`,
    /// `s = 2`, `i = 3`, `f = 4`, `b = 5`, `placeholder = 9`, `func = 10`, are skipped).
    /// At most one is set in a valid file; declaring them as plain optional fields decodes
    /// and encodes the same bytes.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AttrValue {
        #[prost(int32, optional, tag = "6")]
        pub r#type: Option<i32>,
        #[prost(message, optional, tag = "7")]
        pub shape: Option<TensorShapeProto>,
        #[prost(message, optional, tag = "8")]
        pub tensor: Option<TensorProto>,
    }

    /// tensor.proto: `DataType dtype = 1; TensorShapeProto tensor_shape = 2;
    /// int32 version_number = 3; bytes tensor_content = 4; repeated float float_val = 5;
    /// repeated double double_val = 6; repeated int32 int_val = 7;
    /// repeated int32 half_val = 13;` (all numeric repeated fields packed).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorProto {
        #[prost(int32, tag = "1")]
        pub dtype: i32,
        #[prost(message, optional, tag = "2")]
        pub tensor_shape: Option<TensorShapeProto>,
        #[prost(int32, tag = "3")]
        pub version_number: i32,
        #[prost(bytes = "vec", tag = "4")]
        pub tensor_content: Vec<u8>,
        #[prost(float, repeated, tag = "5")]
        pub float_val: Vec<f32>,
        #[prost(double, repeated, tag = "6")]
        pub double_val: Vec<f64>,
        #[prost(int32, repeated, tag = "7")]
        pub int_val: Vec<i32>,
        #[prost(int32, repeated, tag = "13")]
        pub half_val: Vec<i32>,
    }

    /// tensor_shape.proto: `repeated Dim dim = 2; bool unknown_rank = 3;`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorShapeProto {
        #[prost(message, repeated, tag = "2")]
        pub dim: Vec<Dim>,
        #[prost(bool, tag = "3")]
        pub unknown_rank: bool,
    }

    /// tensor_shape.proto, `TensorShapeProto.Dim`: `int64 size = 1; string name = 2;`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dim {
        #[prost(int64, tag = "1")]
        pub size: i64,
        #[prost(string, tag = "2")]
        pub name: String,
    }
}

/// Caffe `NetParameter`, as stored in a `.caffemodel`.
///
/// Source: BVLC/caffe `src/caffe/proto/caffe.proto` (proto2; read at commit
/// 9b891540183ddc834a02b2bd81b31afae71b2153).
pub mod caffe {
    /// `V1LayerParameter.LayerType` values of the layers that carry weights.
    pub const V1_CONVOLUTION: i32 = 4;
    pub const V1_INNER_PRODUCT: i32 = 14;
    pub const V1_DECONVOLUTION: i32 = 39;

    /// `optional string name = 1; repeated V1LayerParameter layers = 2;` (deprecated)
    /// `repeated LayerParameter layer = 100;`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NetParameter {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, repeated, tag = "2")]
        pub layers: Vec<V1LayerParameter>,
        #[prost(message, repeated, tag = "100")]
        pub layer: Vec<LayerParameter>,
    }

    /// `optional string name = 1; optional string type = 2; repeated string bottom = 3;
    /// repeated string top = 4; repeated BlobProto blobs = 7;`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LayerParameter {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(string, optional, tag = "2")]
        pub r#type: Option<String>,
        #[prost(string, repeated, tag = "3")]
        pub bottom: Vec<String>,
        #[prost(string, repeated, tag = "4")]
        pub top: Vec<String>,
        #[prost(message, repeated, tag = "7")]
        pub blobs: Vec<BlobProto>,
    }

    /// Deprecated layout: `optional V0LayerParameter layer = 1; repeated string bottom = 2;
    /// repeated string top = 3; optional string name = 4; optional LayerType type = 5;
    /// repeated BlobProto blobs = 6;` (the enum is a varint, declared here as `int32`).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct V1LayerParameter {
        #[prost(message, optional, tag = "1")]
        pub layer: Option<V0LayerParameter>,
        #[prost(string, repeated, tag = "2")]
        pub bottom: Vec<String>,
        #[prost(string, repeated, tag = "3")]
        pub top: Vec<String>,
        #[prost(string, optional, tag = "4")]
        pub name: Option<String>,
        #[prost(int32, optional, tag = "5")]
        pub r#type: Option<i32>,
        #[prost(message, repeated, tag = "6")]
        pub blobs: Vec<BlobProto>,
    }

    /// The oldest layout, nested in a V1 layer: `optional string name = 1;
    /// optional string type = 2; repeated BlobProto blobs = 50;`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct V0LayerParameter {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(string, optional, tag = "2")]
        pub r#type: Option<String>,
        #[prost(message, repeated, tag = "50")]
        pub blobs: Vec<BlobProto>,
    }

    /// `optional BlobShape shape = 7; repeated float data = 5 [packed];
    /// repeated double double_data = 8 [packed];` and the deprecated 4-D dimensions
    /// `optional int64 num = 1; channels = 2; height = 3; width = 4;` (`diff = 6` and
    /// `double_diff = 9`, gradients, are skipped).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct BlobProto {
        #[prost(int64, optional, tag = "1")]
        pub num: Option<i64>,
        #[prost(int64, optional, tag = "2")]
        pub channels: Option<i64>,
        #[prost(int64, optional, tag = "3")]
        pub height: Option<i64>,
        #[prost(int64, optional, tag = "4")]
        pub width: Option<i64>,
        #[prost(float, repeated, packed = "true", tag = "5")]
        pub data: Vec<f32>,
        #[prost(message, optional, tag = "7")]
        pub shape: Option<BlobShape>,
        #[prost(double, repeated, packed = "true", tag = "8")]
        pub double_data: Vec<f64>,
    }

    /// `repeated int64 dim = 1 [packed = true];`
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct BlobShape {
        #[prost(int64, repeated, packed = "true", tag = "1")]
        pub dim: Vec<i64>,
    }
}

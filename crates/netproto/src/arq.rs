//! Sans-IO sliding-window sender and receiver.

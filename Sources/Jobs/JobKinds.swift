/// The registry of job kinds: the API's job routes, the worker's dispatch and the spec test all read this list.
public enum JobKinds {
    public static let all: [any JobKind.Type] = [
        CreateJob.self,
        AddNodeJob.self,
        ReshardJob.self,
        RebalanceJob.self,
        DelNodeJob.self,
        FixJob.self,
        FailoverJob.self,
        SetTimeoutJob.self,
        CallJob.self,
        RestoreJob.self,
        ImportJob.self,
        ReplaceNodeJob.self,
        BackupJob.self,
    ]

    public static var names: [String] { all.map { $0.name } }

    public static func named(_ name: String) -> (any JobKind.Type)? {
        all.first { $0.name == name }
    }
}
